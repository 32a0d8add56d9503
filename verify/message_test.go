package verify

import (
	"strings"
	"testing"
)

func TestLocalizeFallsBackToEnglish(t *testing.T) {
	m := Message{Format: "a %s of %d", Args: []any{Message{Format: "nested %s", Args: []any{"x"}}, 3}}
	if got := m.String(); got != "a nested x of 3" {
		t.Fatalf("English %q", got)
	}
	if got := m.In(Printer(Indonesian)); got != "a nested x of 3" {
		t.Fatalf("untranslated, in Indonesian: %q", got)
	}
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]string{"": "id", "id": "id", "en": "en"} {
		tag, err := ParseLanguage(in)
		if err != nil || tag.String() != want {
			t.Errorf("ParseLanguage(%q) = %v, %v", in, tag, err)
		}
	}
	if _, err := ParseLanguage("fr"); err == nil || !strings.Contains(err.Error(), "choose id") {
		t.Errorf("fr: %v", err)
	}
}
