//go:build !race

package sortedjson

const raceEnabled = false
