/** Open-file limits for processes that hold tens of thousands of sockets. */
import { execFileSync } from 'node:child_process';

/** Enough for 50,000 connections and then some. */
export const MANY_FILES = 200_000;

/**
 * Raises a running process's open-file limit (soft and hard) with prlimit(1)
 * as far as this machine allows, and returns the limit it then has. Called
 * right after a fork, before the child has opened much. Going past the hard
 * limit needs CAP_SYS_RESOURCE, which containers often drop even for root:
 * then the process keeps the hard limit, and scenarios size themselves by it.
 */
export function raiseFileLimit(pid: number, limit = MANY_FILES): number {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`], { stdio: 'ignore' });
  } catch {
    const hard = execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--output', 'HARD', '--noheadings'], { encoding: 'utf8' }).trim();
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' });
  }
  return Number(execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--output', 'SOFT', '--noheadings'], { encoding: 'utf8' }).trim());
}
