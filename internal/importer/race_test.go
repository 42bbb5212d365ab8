//go:build race

package importer

// raceEnabled is set when the race detector is on, which runs the model
// test about ten times slower: it then runs fewer schedules.
const raceEnabled = true
