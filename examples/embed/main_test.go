package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/ledger"
)

// The program runs on a log that InitDir (pakta init) made, and the log
// keeps what it appended.
func TestEmbed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "log")
	if _, err := ledger.InitDir(ctx, dir, "kepegawaian.mamujukab.go.id/pakta", nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, dir, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verdict: PASS") {
		t.Fatal(out.String())
	}
	l, err := ledger.OpenDir(ctx, dir, ledger.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, size := l.Checkpoint(); size != 3 {
		t.Errorf("the log has %d entries after the run, want 3 (the enrollment, the template and the pledge)", size)
	}
}
