//go:build linux && cgo

package main

/*
#include <stdlib.h>
#include <string.h>

enum {
	PAKTA_ARENAS = 1,
	PAKTA_MMAP_THRESHOLD = 128 << 10,
	PAKTA_SET_ARENAS = 1,
	PAKTA_SET_THRESHOLD = 2,
};

#if defined(__GLIBC__)
#include <malloc.h>

// pakta_tune_malloc applies the defaults that the environment does not
// override and returns which it set (PAKTA_SET_*).
static int pakta_tune_malloc(int arenas_env, int threshold_env) {
	int set = 0;
	if (!arenas_env && mallopt(M_ARENA_MAX, PAKTA_ARENAS) == 1) {
		set |= PAKTA_SET_ARENAS;
	}
	if (!threshold_env && mallopt(M_MMAP_THRESHOLD, PAKTA_MMAP_THRESHOLD) == 1) {
		set |= PAKTA_SET_THRESHOLD;
	}
	return set;
}

// pakta_trim returns the free pages inside glibc's heap to the system
// (malloc_trim walks every free chunk, not only the heap's top). It
// returns 1 if memory was released, 0 if none was, -1 on another libc.
static int pakta_trim(void) { return malloc_trim(0); }
#else
// Another libc (musl, bionic): its allocator is not glibc's, and it may
// not declare mallopt at all.
static int pakta_tune_malloc(int arenas_env, int threshold_env) { return 0; }
static int pakta_trim(void) { return -1; }
#endif

// pakta_env_sets reports whether the environment sets a malloc parameter:
// its variable, or its name inside GLIBC_TUNABLES (which may also hold
// unrelated tunables).
static int pakta_env_sets(const char *var, const char *tunable) {
	const char *t = getenv("GLIBC_TUNABLES");
	return getenv(var) != NULL || (t != NULL && strstr(t, tunable) != NULL);
}

static int pakta_malloc_tuned;

// glibc stops creating arenas only once the limit is set before it needs
// a new one, and every thread that mallocs first takes an arena; the Go
// runtime starts threads before any Go init function runs. Set from Go
// init, the limit came too late (smaps showed four thread-arena heaps). A
// constructor runs before main, on the only thread.
__attribute__((constructor)) static void pakta_malloc_init(void) {
	pakta_malloc_tuned = pakta_tune_malloc(
		pakta_env_sets("MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
		pakta_env_sets("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"));
}

static int pakta_malloc_tuned_at_start(void) { return pakta_malloc_tuned; }
*/
import "C"

import "unsafe"

// Pebble allocates its block cache and memtables with C calloc in cgo
// builds, and glibc's defaults keep far more of that resident than Pebble
// uses. Each thread that allocates gets an arena of its own (up to eight
// per core), and a block freed in one arena serves only that arena's
// threads; after a large block is freed glibc raises its mmap threshold,
// so later cache blocks come from the arenas too. Freed blocks in the
// middle of an arena stay resident. In a 20,000-employee run at 11 M
// entries, glibc's arenas held 167 MB for 67 MB of cached blocks; with one
// arena, 88 MB, at the same append and read rates. Full runs peaked at 283
// MB (one arena from the environment) and 298 MB (this constructor); with
// glibc's defaults the session-2 binary had peaked at 527 MB at 10 M
// entries (BENCHMARKS.md, "Ten million entries" and "Session 4").
// The binary sets these itself, in a C constructor (above), so that an
// admin gets the small figure without knowing glibc.
//
// An operator who tunes malloc keeps their setting: MALLOC_ARENA_MAX, or
// glibc.malloc.arena_max in GLIBC_TUNABLES, turns off the arena default;
// MALLOC_MMAP_THRESHOLD_ or glibc.malloc.mmap_threshold the threshold's.
// Other C libraries are left alone.

// trimMalloc gives the free pages in the middle of glibc's heap back to
// the system, and reports whether this C library can (glibc only).
//
// Pebble's block cache lives in that heap, and the cache is shared with
// the memtables' reservations: while one memtable is reserved the blocks
// may use a memtable's worth more than while two are, so the blocks grow,
// are evicted when the next memtable is reserved, and the pages they freed
// stay resident (glibc only returns the heap's top by itself). At 11 M
// entries the heap held 119 MB for 64 MiB of cached blocks, and 73-90 MB
// with serve trimming it every trimInterval.
func trimMalloc() bool { return C.pakta_trim() >= 0 }

// mallocTuned names the settings the constructor applied at start.
func mallocTuned() []string { return tunedNames(int(C.pakta_malloc_tuned_at_start())) }

// tuneMalloc is the constructor's decision for a given environment; it
// applies what it decides (harmless again after start, but the arena limit
// then no longer takes effect).
func tuneMalloc(arenasEnv, thresholdEnv bool) []string {
	return tunedNames(int(C.pakta_tune_malloc(cBool(arenasEnv), cBool(thresholdEnv))))
}

// envSetsMalloc is the constructor's reading of the environment for one
// parameter: its variable, or its tunable in GLIBC_TUNABLES.
func envSetsMalloc(variable, tunable string) bool {
	v, t := C.CString(variable), C.CString(tunable)
	defer C.free(unsafe.Pointer(v))
	defer C.free(unsafe.Pointer(t))
	return C.pakta_env_sets(v, t) != 0
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
