package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCeremony(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, n); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verified offline: pass") || !strings.Contains(out.String(), "late") || !strings.Contains(out.String(), "not signed") {
		t.Fatal(out.String())
	}
	t.Log(out.String())
}
