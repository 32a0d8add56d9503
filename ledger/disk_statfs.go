//go:build linux || darwin || freebsd

package ledger

import "syscall"

// freeSpace is the bytes an unprivileged process may still write on the
// file system holding path.
func freeSpace(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
