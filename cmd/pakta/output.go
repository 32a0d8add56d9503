package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
)

// printJSON writes v as indented JSON and a newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// b64 is standard, padded base64, as hashes are written everywhere in pakta.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
