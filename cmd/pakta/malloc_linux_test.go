//go:build linux && cgo

package main

import (
	"os"
	"slices"
	"testing"
)

func TestTuneMallocKeepsTheOperatorsSetting(t *testing.T) {
	both := []string{"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}
	for _, tc := range []struct {
		name                              string
		tunables, arenasEnv, thresholdEnv bool
		want                              []string
	}{
		{"defaults", false, false, false, both},
		{"arenas set", false, true, false, both[1:]},
		{"threshold set", false, false, true, both[:1]},
		{"tunables", true, false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tuneMalloc(tc.tunables, tc.arenasEnv, tc.thresholdEnv); !slices.Equal(got, tc.want) {
				t.Errorf("set %q, want %q", got, tc.want)
			}
		})
	}
}

// The constructor ran before this test, under the test's environment.
func TestMallocTunedAtStart(t *testing.T) {
	_, tunables := os.LookupEnv("GLIBC_TUNABLES")
	_, arenas := os.LookupEnv("MALLOC_ARENA_MAX")
	_, threshold := os.LookupEnv("MALLOC_MMAP_THRESHOLD_")
	var want []string
	if !tunables && !arenas {
		want = append(want, "MALLOC_ARENA_MAX")
	}
	if !tunables && !threshold {
		want = append(want, "MALLOC_MMAP_THRESHOLD_")
	}
	if tunables {
		want = nil
	}
	if got := mallocTuned(); !slices.Equal(got, want) {
		t.Errorf("set at start %q, want %q", got, want)
	}
}
