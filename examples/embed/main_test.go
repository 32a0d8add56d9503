package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestEmbed(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verdict: PASS") {
		t.Fatal(out.String())
	}
}
