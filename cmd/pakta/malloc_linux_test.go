//go:build linux && cgo

package main

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

func TestTuneMallocKeepsTheOperatorsSetting(t *testing.T) {
	both := []string{"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}
	for _, tc := range []struct {
		name                    string
		arenasEnv, thresholdEnv bool
		want                    []string
	}{
		{"defaults", false, false, both},
		{"arenas set", true, false, both[1:]},
		{"threshold set", false, true, both[:1]},
		{"both set", true, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tuneMalloc(tc.arenasEnv, tc.thresholdEnv); !slices.Equal(got, tc.want) {
				t.Errorf("set %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMallocEnvironment: a variable or the parameter's own glibc tunable
// keeps the operator's setting; unrelated tunables do not.
func TestMallocEnvironment(t *testing.T) {
	const v, tunable = "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"
	for _, tc := range []struct {
		name, variable, tunables string
		want                     bool
	}{
		{"nothing set", "", "", false},
		{"variable", "4", "", true},
		{"its tunable", "", "glibc.malloc.arena_max=4", true},
		{"among others", "", "glibc.pthread.rseq=0:glibc.malloc.arena_max=4", true},
		{"unrelated tunables", "", "glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=65536", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(v, tc.variable)
			t.Setenv("GLIBC_TUNABLES", tc.tunables)
			if tc.variable == "" {
				os.Unsetenv(v)
			}
			if tc.tunables == "" {
				os.Unsetenv("GLIBC_TUNABLES")
			}
			if got := envSetsMalloc(v, tunable); got != tc.want {
				t.Errorf("MALLOC_ARENA_MAX=%q GLIBC_TUNABLES=%q: set by the environment %v, want %v", tc.variable, tc.tunables, got, tc.want)
			}
		})
	}
}

// The constructor ran before this test, under the test's environment.
func TestMallocTunedAtStart(t *testing.T) {
	var want []string
	if !envSetsMalloc("MALLOC_ARENA_MAX", "glibc.malloc.arena_max") {
		want = append(want, "MALLOC_ARENA_MAX")
	}
	if !envSetsMalloc("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold") {
		want = append(want, "MALLOC_MMAP_THRESHOLD_")
	}
	if got := mallocTuned(); !slices.Equal(got, want) {
		t.Errorf("set at start %q, want %q", got, want)
	}
}

// TestTrimEvery: on glibc the trim runs, and trimEvery stops with its
// context. (What a trim returns is measured in BENCHMARKS.md, session 8:
// on a 10 M-entry server, glibc's heap 119 MB without it, 73-90 MB with it.)
func TestTrimEvery(t *testing.T) {
	if !trimMalloc() {
		t.Skip("not glibc: nothing to trim")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { trimEvery(ctx, time.Millisecond); close(done) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
}
