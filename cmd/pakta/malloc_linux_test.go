//go:build linux && cgo

package main

import (
	"slices"
	"testing"
)

func TestTuneMallocKeepsTheOperatorsSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"defaults", nil, []string{"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}},
		{"arenas set", map[string]string{"MALLOC_ARENA_MAX": "4"}, []string{"MALLOC_MMAP_THRESHOLD_"}},
		{"threshold set", map[string]string{"MALLOC_MMAP_THRESHOLD_": "65536"}, []string{"MALLOC_ARENA_MAX"}},
		{"tunables", map[string]string{"GLIBC_TUNABLES": "glibc.malloc.arena_max=8"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tuneMalloc(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if !slices.Equal(got, tc.want) {
				t.Errorf("set %q, want %q", got, tc.want)
			}
		})
	}
}
