//go:build !unix

package runlock

import "os"

func tryLock(*os.File) (bool, error) { return false, ErrUnsupported }
