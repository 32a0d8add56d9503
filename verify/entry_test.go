package verify

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

const testJWS = "eyJhbGciOiJFZERTQSJ9.eyJ0eXBlIjoicGxlZGdlIn0.c2lnbmF0dXJl"

func TestMarshalEntry(t *testing.T) {
	wita := time.FixedZone("WITA", 8*3600)
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{
			name: "compact JWS",
			e:    Entry{LoggedAt: time.Date(2023, 11, 27, 0, 15, 1, 123_000_000, time.UTC), JWS: []byte(testJWS)},
			want: `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"` + testJWS + `"}`,
		},
		{
			name: "converted to UTC and truncated to milliseconds",
			e:    Entry{LoggedAt: time.Date(2023, 11, 27, 8, 15, 1, 123_999_999, wita), JWS: []byte(testJWS)},
			want: `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"` + testJWS + `"}`,
		},
		{
			name: "zero milliseconds still written",
			e:    Entry{LoggedAt: time.Date(2024, 2, 14, 7, 0, 0, 0, time.UTC), JWS: []byte("a.b.c")},
			want: `{"v":1,"logged_at":"2024-02-14T07:00:00.000Z","jws":"a.b.c"}`,
		},
		{
			name: "JSON-serialized JWS is a quoted string",
			e:    Entry{LoggedAt: time.Date(2024, 2, 14, 7, 0, 0, 5_000_000, time.UTC), JWS: []byte(`{"payload":"x","signatures":[]}`)},
			want: `{"v":1,"logged_at":"2024-02-14T07:00:00.005Z","jws":"{\"payload\":\"x\",\"signatures\":[]}"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarshalEntry(tt.e)
			if err != nil {
				t.Fatalf("MarshalEntry: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("MarshalEntry =\n%s\nwant\n%s", got, tt.want)
			}
			e, err := ParseEntry(got)
			if err != nil {
				t.Fatalf("ParseEntry(MarshalEntry(e)): %v", err)
			}
			if !e.LoggedAt.Equal(tt.e.LoggedAt.Truncate(time.Millisecond)) || string(e.JWS) != string(tt.e.JWS) {
				t.Fatalf("ParseEntry = %+v, want %+v", e, tt.e)
			}
		})
	}
}

func TestMarshalEntryErrors(t *testing.T) {
	at := time.Date(2023, 11, 27, 0, 15, 1, 0, time.UTC)
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"empty JWS", Entry{LoggedAt: at}, "jws is empty"},
		{"invalid UTF-8", Entry{LoggedAt: at, JWS: []byte("a.\xff.c")}, "not valid UTF-8"},
		{"too large", Entry{LoggedAt: at, JWS: []byte(strings.Repeat("a", MaxEntrySize))}, "more than 65535"},
		{"year 10000", Entry{LoggedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), JWS: []byte("a")}, "year 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MarshalEntry(tt.e)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "verify: entry: ") {
				t.Fatalf("MarshalEntry error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMarshalEntryMaxSize(t *testing.T) {
	overhead := len(`{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":""}`)
	e := Entry{LoggedAt: time.Date(2023, 11, 27, 0, 15, 1, 123_000_000, time.UTC)}
	e.JWS = []byte(strings.Repeat("a", MaxEntrySize-overhead))
	b, err := MarshalEntry(e)
	if err != nil || len(b) != MaxEntrySize {
		t.Fatalf("MarshalEntry of exactly MaxEntrySize bytes = %d bytes, %v", len(b), err)
	}
	if _, err := ParseEntry(b); err != nil {
		t.Fatalf("ParseEntry of exactly MaxEntrySize bytes: %v", err)
	}
	e.JWS = append(e.JWS, 'a')
	if _, err := MarshalEntry(e); err == nil {
		t.Fatalf("MarshalEntry of MaxEntrySize+1 bytes succeeded")
	}
}

func TestParseEntryRejects(t *testing.T) {
	const good = `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`
	if _, err := ParseEntry([]byte(good)); err != nil {
		t.Fatalf("ParseEntry(good): %v", err)
	}
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"not an object", `[]`},
		{"leading space", ` ` + good},
		{"trailing newline", good + "\n"},
		{"trailing garbage", good + `x`},
		{"second value", good + `{}`},
		{"space after colon", `{"v": 1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"members reordered", `{"logged_at":"2023-11-27T00:15:01.123Z","v":1,"jws":"a.b.c"}`},
		{"unknown member", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c","x":1}`},
		{"duplicate member", `{"v":1,"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"member name in other case", `{"V":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"missing v", `{"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"missing logged_at", `{"v":1,"jws":"a.b.c"}`},
		{"missing jws", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z"}`},
		{"null jws", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":null}`},
		{"empty jws", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":""}`},
		{"v 2", `{"v":2,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"v 1.0", `{"v":1.0,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"v as string", `{"v":"1","logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"offset instead of Z", `{"v":1,"logged_at":"2023-11-27T07:15:01.123+07:00","jws":"a.b.c"}`},
		{"lowercase z", `{"v":1,"logged_at":"2023-11-27T00:15:01.123z","jws":"a.b.c"}`},
		{"no fraction", `{"v":1,"logged_at":"2023-11-27T00:15:01Z","jws":"a.b.c"}`},
		{"microseconds", `{"v":1,"logged_at":"2023-11-27T00:15:01.123456Z","jws":"a.b.c"}`},
		{"space separator", `{"v":1,"logged_at":"2023-11-27 00:15:01.123Z","jws":"a.b.c"}`},
		{"month 13", `{"v":1,"logged_at":"2023-13-27T00:15:01.123Z","jws":"a.b.c"}`},
		{"escaped slash", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a\/b.c"}`},
		{"needless unicode escape", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"\u0061.b.c"}`},
		{"invalid UTF-8", "{\"v\":1,\"logged_at\":\"2023-11-27T00:15:01.123Z\",\"jws\":\"a.\xff.c\"}"},
		{"lone surrogate escape", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"\ud800"}`},
		{"too large", `{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"` + strings.Repeat("a", MaxEntrySize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseEntry(%q) = %+v, want error", abbrev(tt.in), e)
			}
			if !strings.HasPrefix(err.Error(), "verify: entry: ") {
				t.Fatalf("error %q lacks prefix", err)
			}
		})
	}
}

func TestLeafHash(t *testing.T) {
	entry := []byte(`{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`)
	want := sha256.Sum256(append([]byte{0}, entry...))
	if got := LeafHash(entry); got != want {
		t.Fatalf("LeafHash = %x, want SHA-256(0x00 || entry) = %x", got, want)
	}
}

// TestMarshalEntryMatchesStructEncoding: the hand-written encoder writes
// exactly what encoding the entry struct with the JSON library writes.
func TestMarshalEntryMatchesStructEncoding(t *testing.T) {
	at := time.Date(2023, 11, 27, 0, 15, 1, 123456789, time.UTC)
	for _, jws := range []string{
		"a.b.c", `{"payload":"x","signatures":[{"protected":"p","signature":"s"}]}`,
		"quote\" backslash\\ slash/ <html> & amp", "tab\t nl\n cr\r nul\x00 del\x7f",
		"unicode é ñ 中文 \u2028 \u2029 \U0001F600", "\ufeff bom",
	} {
		got, err := MarshalEntry(Entry{LoggedAt: at, JWS: []byte(jws)})
		if err != nil {
			t.Fatal(err)
		}
		v, ts := 1, at.Format(loggedAtLayout)
		want, err := json.Marshal(entryJSON{V: &v, LoggedAt: &ts, JWS: &jws})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hand-written %s\nstruct       %s", got, want)
		}
		back, err := ParseEntry(got)
		if err != nil || string(back.JWS) != jws || !back.LoggedAt.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("round trip of %q: %v", jws, err)
		}
	}
}
