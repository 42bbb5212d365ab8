package main

import (
	"context"
	"errors"

	"github.com/lineitems/importer/internal/command"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/runlock"
	"github.com/lineitems/importer/internal/watch"
)

// Exit codes, for cron jobs and scripts.
const (
	exitOK          = 0   // every row created
	exitFatal       = 1   // bad token, missing scope, bad mapping, unreadable input, daily limit
	exitUsage       = 2   // bad flags
	exitRowsFailed  = 3   // finished, but some rows failed or are in doubt
	exitTryLater    = 75  // another run holds --out, or HubSpot did not answer the first reads (EX_TEMPFAIL): nothing sent, try again later; or the input was written over while it was read, or still being written when the run stopped reading it
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// usageError is a problem with the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitCode is the one place where an error becomes an exit code.
func exitCode(err error) int {
	var ue *usageError
	var ie *importer.IncompleteError
	var he *runlock.HeldError
	var une *command.UnavailableError
	var se *command.SummaryError
	var ce *watch.ChangedError
	var fe *watch.UnfinishedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &se):
		return exitFatal // whatever the rows' outcome: the summary a wrapper reads is not there
	case errors.As(err, &he), errors.As(err, &une), errors.As(err, &ce), errors.As(err, &fe):
		return exitTryLater
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ie):
		return exitRowsFailed
	default:
		return exitFatal
	}
}
