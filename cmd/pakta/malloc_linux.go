//go:build linux && cgo

package main

/*
#include <malloc.h>

static int pakta_mallopt(int param, int value) {
	return mallopt(param, value);
}

#ifndef M_ARENA_MAX
#define M_ARENA_MAX 0
#endif
#ifndef M_MMAP_THRESHOLD
#define M_MMAP_THRESHOLD 0
#endif
// Not defined by every libc; 0 means absent (glibc's are negative).
enum { pakta_m_arena_max = M_ARENA_MAX, pakta_m_mmap_threshold = M_MMAP_THRESHOLD };
*/
import "C"

import "os"

// Pebble allocates its block cache and memtables with C calloc in cgo
// builds, and glibc's defaults keep far more of that resident than Pebble
// uses: each thread that allocates gets an arena of its own (up to eight
// per core), and after a large block is freed glibc raises its mmap
// threshold, so later cache blocks come from those arenas and their freed
// pages stay with the process. At ten million entries that took the server
// from 360 MB (2 arenas, fixed 128 KiB threshold, set by environment) to
// 527 MB (the defaults); BENCHMARKS.md has the runs. The binary sets both
// itself so that an admin gets the small figure without knowing glibc.
//
// An operator who tunes malloc keeps their setting: either environment
// variable, or GLIBC_TUNABLES, turns the corresponding default off.
const (
	mallocArenas        = 2
	mallocMmapThreshold = 128 << 10
)

func init() { tuneMalloc(os.LookupEnv) }

// tuneMalloc applies the defaults above that the environment does not
// override and returns the names of those it set.
func tuneMalloc(lookup func(string) (string, bool)) (set []string) {
	if _, ok := lookup("GLIBC_TUNABLES"); ok {
		return nil
	}
	for _, p := range []struct {
		env          string
		param, value C.int
	}{
		{"MALLOC_ARENA_MAX", C.pakta_m_arena_max, mallocArenas},
		{"MALLOC_MMAP_THRESHOLD_", C.pakta_m_mmap_threshold, mallocMmapThreshold},
	} {
		if _, ok := lookup(p.env); ok || p.param == 0 {
			continue
		}
		if C.pakta_mallopt(p.param, p.value) == 1 {
			set = append(set, p.env)
		}
	}
	return set
}
