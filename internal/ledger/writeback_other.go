//go:build !linux

package ledger

import "os"

// startWriteback is Linux's sync_file_range advice; elsewhere Sync does all the work.
func startWriteback(f *os.File, off, n int64) {}
