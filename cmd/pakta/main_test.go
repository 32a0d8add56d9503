package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
)

// testCommands are the programs the tests put on PATH, run by this test
// binary: pakta itself, and helpers other test files add in their init.
var testCommands = map[string]func(){
	"pakta": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
}

func TestMain(m *testing.M) {
	// testscript.Main exits: the PostgreSQL cluster of the tests that
	// asked for one is stopped in the exit path of the test binary only.
	testscript.Main(stopping{m}, testCommands)
}

// stopping runs the tests, then stops the throwaway PostgreSQL cluster if
// one was started (pgtest).
type stopping struct{ m *testing.M }

func (s stopping) Run() int {
	code := s.m.Run()
	pgtest.Stop()
	return code
}

// TestScripts runs the testscript scripts in testdata/*.txtar. Scripts see
// $TODAY_WITA, today's date in WITA (+08:00), the date of a pledge signed
// now with "tz: WITA".
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("TODAY_WITA", time.Now().In(time.FixedZone("WITA", 8*3600)).Format("2006-01-02"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"replace": cmdReplace,
			"perm":    cmdPerm,
			"status":  cmdStatus,
		},
	})
}

// replace FILE OLD NEW replaces the first OLD in FILE by NEW, literally
// (a \n in a script is a backslash and an n, as JSON escapes a newline); it
// fails if FILE does not hold OLD.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	old, new := args[1], args[2]
	data := ts.ReadFile(args[0])
	if !strings.Contains(data, old) {
		ts.Fatalf("%s does not contain %q", args[0], old)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Replace(data, old, new, 1)), 0o644))
}

// perm FILE MODE checks a file's permission bits (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := fmt.Sprintf("%04o", st.Mode().Perm())
	if (got == args[1]) == neg {
		ts.Fatalf("%s has mode %s, want %s%s", filepath.Base(args[0]), got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// status N PROGRAM ARGS... runs PROGRAM like exec and checks that it exits
// with status N (testscript's "! exec" accepts any non-zero status).
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
