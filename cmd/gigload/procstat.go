package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc; it is 100 on
// every Linux platform Go supports.
const clockTicks = 100

// rssKiB returns the resident set size of process pid in KiB, from the VmRSS
// line of /proc/<pid>/status.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(rest))
			if len(f) < 1 {
				break
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of pid %d: %w", pid, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("pid %d: no VmRSS line", pid)
}

// totalRSSKiB sums rssKiB over pids.
func totalRSSKiB(pids []int) (int64, error) {
	var sum int64
	for _, p := range pids {
		n, err := rssKiB(p)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// processTicks returns the user+system CPU time of process pid in clock
// ticks, from fields 14 and 15 of /proc/<pid>/stat.
func processTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields resume after its ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("pid %d: short stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("pid %d: CPU times: %w", pid, errors.Join(err1, err2))
	}
	return utime + stime, nil
}

// machineTicks returns the busy and total CPU time of all cores, in clock
// ticks, from the first line of /proc/stat (idle and iowait are not busy).
func machineTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat")
	}
	for i, s := range f[1:] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat field %d: %w", i+1, err)
		}
		total += n
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is already in user
			busy += n
		}
	}
	return busy, total, nil
}

// cpuSample is a snapshot of CPU counters taken at the start and the end of
// a measured phase.
type cpuSample struct {
	servers, self, busy, total int64
}

// takeCPUSample reads the counters of the server processes, of gigload
// itself and of the machine.
func takeCPUSample(serverPIDs []int) (cpuSample, error) {
	var s cpuSample
	for _, p := range serverPIDs {
		n, err := processTicks(p)
		if err != nil {
			return s, err
		}
		s.servers += n
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("getrusage: %w", err)
	}
	s.self = (ru.Utime.Nano() + ru.Stime.Nano()) / (1e9 / clockTicks)
	var err error
	s.busy, s.total, err = machineTicks()
	return s, err
}

// cpuUse is the CPU spent during a phase, in percent of one core.
type cpuUse struct {
	Servers float64 `json:"servers_pct_core"`
	Gigload float64 `json:"gigload_pct_core"`
	Other   float64 `json:"other_pct_core"` // everything else: Redis, Postgres, other work on the machine
	Machine float64 `json:"machine_pct_core"`
}

// cpuBetween converts two samples taken seconds apart into cpuUse.
func cpuBetween(a, b cpuSample, seconds float64) cpuUse {
	if seconds <= 0 {
		return cpuUse{}
	}
	pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / seconds * 100 }
	u := cpuUse{
		Servers: pct(b.servers - a.servers),
		Gigload: pct(b.self - a.self),
		Machine: pct(b.busy - a.busy),
	}
	u.Other = max(0, u.Machine-u.Servers-u.Gigload)
	return u
}

// sub returns the counters that grew from a to s.
func (s cpuSample) sub(a cpuSample) cpuSample {
	return cpuSample{servers: s.servers - a.servers, self: s.self - a.self, busy: s.busy - a.busy, total: s.total - a.total}
}

// add sums two spans of counters.
func (s cpuSample) add(b cpuSample) cpuSample {
	return cpuSample{servers: s.servers + b.servers, self: s.self + b.self, busy: s.busy + b.busy, total: s.total + b.total}
}

// loadAverage returns the 1-minute load average from /proc/loadavg, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
