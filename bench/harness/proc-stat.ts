/**
 * CPU time and memory of another process, read from /proc without asking it: a server
 * drowning in work (the Socket.IO baseline under a fan-out it cannot keep up
 * with) may not answer a request for minutes, but the kernel always does.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** User and system (kernel) CPU time of a live process (all its threads), in ms, at 10 ms resolution. */
export function cpuTimesOf(pid: number): { userMs: number; systemMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesized command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: (Number(fields[11]) * 1000) / CLOCK_TICKS, systemMs: (Number(fields[12]) * 1000) / CLOCK_TICKS };
}

/** User plus system CPU time of a live process (all its threads), in ms, at 10 ms resolution. */
export function cpuMsOf(pid: number): number {
  const { userMs, systemMs } = cpuTimesOf(pid);
  return userMs + systemMs;
}

/** Resident memory of a live process, in bytes (VmRSS), read from outside as `cpuMsOf` is. */
export function rssBytesOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** The live children of a process (a cluster primary's workers), by pid. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return children;
}
