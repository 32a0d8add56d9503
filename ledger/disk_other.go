//go:build !(linux || darwin || freebsd)

package ledger

import "errors"

// freeSpace cannot measure here: disk checks are off (DiskStatus.Err).
func freeSpace(string) (uint64, error) {
	return 0, errors.New("ledger: measuring free disk space is not supported on this platform")
}
