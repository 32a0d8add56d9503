//go:build linux && cgo

package main

/*
#include <malloc.h>
#include <stdlib.h>

#ifndef M_ARENA_MAX
#define M_ARENA_MAX 0
#endif
#ifndef M_MMAP_THRESHOLD
#define M_MMAP_THRESHOLD 0
#endif

enum {
	PAKTA_ARENAS = 1,
	PAKTA_MMAP_THRESHOLD = 128 << 10,
	PAKTA_SET_ARENAS = 1,
	PAKTA_SET_THRESHOLD = 2,
};

// pakta_tune_malloc applies the defaults that the environment does not
// override and returns which it set (PAKTA_SET_*). 0 for a parameter means
// this libc does not have it (glibc's are negative).
static int pakta_tune_malloc(int tunables, int arenas_env, int threshold_env) {
	int set = 0;
	if (tunables) {
		return 0;
	}
	if (!arenas_env && M_ARENA_MAX != 0 && mallopt(M_ARENA_MAX, PAKTA_ARENAS) == 1) {
		set |= PAKTA_SET_ARENAS;
	}
	if (!threshold_env && M_MMAP_THRESHOLD != 0 && mallopt(M_MMAP_THRESHOLD, PAKTA_MMAP_THRESHOLD) == 1) {
		set |= PAKTA_SET_THRESHOLD;
	}
	return set;
}

static int pakta_malloc_tuned;

// glibc fixes its arena limit the first time a second thread allocates,
// and the Go runtime starts threads before any Go init function runs: set
// from Go, the limit came too late (362 MB instead of 283 MB at 10M
// entries). A constructor runs before main, on the only thread.
__attribute__((constructor)) static void pakta_malloc_init(void) {
	pakta_malloc_tuned = pakta_tune_malloc(getenv("GLIBC_TUNABLES") != NULL,
		getenv("MALLOC_ARENA_MAX") != NULL, getenv("MALLOC_MMAP_THRESHOLD_") != NULL);
}

static int pakta_malloc_tuned_at_start(void) { return pakta_malloc_tuned; }
*/
import "C"

// Pebble allocates its block cache and memtables with C calloc in cgo
// builds, and glibc's defaults keep far more of that resident than Pebble
// uses. Each thread that allocates gets an arena of its own (up to eight
// per core), and a block freed in one arena serves only that arena's
// threads; after a large block is freed glibc raises its mmap threshold,
// so later cache blocks come from the arenas too. Freed blocks in the
// middle of an arena stay resident. At ten million entries the server
// peaked at 527 MB with the defaults, 360 MB with two arenas and a fixed
// 128 KiB threshold, and 283 MB with one arena and that threshold, at the
// same append and read rates (BENCHMARKS.md has the runs): with one arena
// every thread reuses every freed block. The binary sets these itself, in
// a C constructor (above), so that an admin gets the small figure without
// knowing glibc.
//
// An operator who tunes malloc keeps their setting: either environment
// variable, or GLIBC_TUNABLES, turns the corresponding default off.

// mallocTuned names the settings the constructor applied at start.
func mallocTuned() []string { return tunedNames(int(C.pakta_malloc_tuned_at_start())) }

// tuneMalloc is the constructor's decision for a given environment; it
// applies what it decides (harmless again after start, but the arena limit
// then no longer takes effect).
func tuneMalloc(tunables, arenasEnv, thresholdEnv bool) []string {
	return tunedNames(int(C.pakta_tune_malloc(cBool(tunables), cBool(arenasEnv), cBool(thresholdEnv))))
}

func tunedNames(set int) (names []string) {
	if set&C.PAKTA_SET_ARENAS != 0 {
		names = append(names, "MALLOC_ARENA_MAX")
	}
	if set&C.PAKTA_SET_THRESHOLD != 0 {
		names = append(names, "MALLOC_MMAP_THRESHOLD_")
	}
	return names
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
