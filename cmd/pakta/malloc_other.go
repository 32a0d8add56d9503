//go:build !(linux && cgo)

package main

// mallocTuned: nothing to tune; without cgo Pebble's memory is Go's.
func mallocTuned() []string { return nil }

// trimMalloc: no glibc heap to trim.
func trimMalloc() bool { return false }
