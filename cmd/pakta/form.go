package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"gopkg.in/yaml.v3"
)

const maxFormSize = 64 << 10

// readForm decodes a JSON or YAML form file strictly into v: unknown or
// duplicate fields and trailing data are errors. A name ending in .json, or
// content beginning with '{', is JSON; anything else is YAML.
func readForm(path string, v any) error {
	b, err := readFileLimited(path, maxFormSize)
	if err != nil {
		return usagef("reading the form: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")))
	if isJSON {
		if err := json.Unmarshal(b, v, json.RejectUnknownMembers(true)); err != nil {
			return usagef("form %s: %w", path, err)
		}
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return usagef("form %s is empty", path)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// One line per problem, without Go type names.
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = goType.ReplaceAllString(m, "")
			}
			return usagef("form %s: %s", path, strings.Join(msgs, "; "))
		}
		return usagef("form %s: %w", path, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return usagef("form %s: more than one YAML document", path)
	}
	return nil
}

var goType = regexp.MustCompile(` (in|into) (type )?[\w.*\[\]]+`)

// zoneNames are Indonesia's time zones by their usual names.
var zoneNames = map[string]int{"WIB": 7, "WITA": 8, "WIT": 9, "UTC": 0, "Z": 0}

// parseZone reads a time zone: WIB, WITA, WIT, UTC, an offset such as
// +08:00, or an IANA name such as Asia/Makassar. "" is the local zone.
func parseZone(s string) (*time.Location, error) {
	if s == "" {
		return time.Local, nil
	}
	if h, ok := zoneNames[strings.ToUpper(s)]; ok {
		return time.FixedZone(strings.ToUpper(s), h*3600), nil
	}
	if len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':' {
		h, err1 := strconv.Atoi(s[1:3])
		m, err2 := strconv.Atoi(s[4:6])
		if err1 == nil && err2 == nil && h <= 14 && m < 60 {
			off := h*3600 + m*60
			if s[0] == '-' {
				off = -off
			}
			return time.FixedZone(s, off), nil
		}
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: use WIB, WITA, WIT, an offset such as +08:00, or a name such as Asia/Makassar", s)
	}
	return loc, nil
}

// timestamp formats t as the statements carry times: RFC 3339 to the
// second, in t's own offset.
func timestamp(t time.Time) string { return t.Truncate(time.Second).Format(time.RFC3339) }
