//go:build !unix

package localstore

import "os"

func flock(*os.File) error   { return nil }
func funlock(*os.File) error { return nil }
func processGone(int) bool   { return false }

const supported = false
