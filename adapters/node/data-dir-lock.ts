import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { NaosError } from '../../src/errors.js';

/** Another live process (or this one) already has the data dir open. */
export class DataDirLockedError extends NaosError {
  constructor(
    readonly lockFile: string,
    readonly holderPid: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

const MAX_ATTEMPTS = 3;

/** Lock files this process holds, so a second open from the same process is refused too. */
const heldByThisProcess = new Set<string>();

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on a data dir: a file holding the owner's pid, created
 * atomically (written under a temporary name, then hard-linked into place, so the lock
 * never exists without its pid). A lock whose pid is no longer running is stale and is
 * taken over once; a live holder is refused with DataDirLockedError.
 *
 * This is the early, explanatory guard. The ledger's LevelDB LOCK (an OS file lock,
 * released by the kernel when a process dies) is the backstop if two processes race to
 * take over the same stale lock.
 */
export async function lockDataDir(lockFile: string): Promise<DataDirLock> {
  if (heldByThisProcess.has(lockFile)) {
    throw new DataDirLockedError(lockFile, process.pid, `the data dir is already open in this process (lock ${lockFile})`);
  }
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(lockFile)) break;
    const holder = await readHolder(lockFile);
    if (holder === 'gone' && attempt < MAX_ATTEMPTS) continue; // released between our attempt and the read
    const pid = holder === 'gone' ? undefined : holder;
    const stale = pid !== undefined && !isRunning(pid);
    if (!stale || attempt >= MAX_ATTEMPTS) {
      throw new DataDirLockedError(
        lockFile,
        pid,
        `the data dir is in use by process ${pid ?? '(unknown)'} (lock file ${lockFile}); ` +
          `stop that process, or delete the lock file if no such process is running`,
      );
    }
    await unlink(lockFile).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }
  heldByThisProcess.add(lockFile);
  let released = false;
  return {
    path: lockFile,
    async release() {
      if (released) return;
      released = true;
      heldByThisProcess.delete(lockFile);
      await unlink(lockFile).catch(() => undefined);
    },
  };
}

async function tryCreate(lockFile: string): Promise<boolean> {
  const temporary = `${lockFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${process.pid}\n`, { mode: 0o600 });
  try {
    await link(temporary, lockFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** The pid in the lock file; undefined if it holds no pid; 'gone' if the file vanished. */
async function readHolder(lockFile: string): Promise<number | undefined | 'gone'> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  const pid = Number(text.trim());
  return /^[1-9][0-9]*$/.test(text.trim()) && Number.isSafeInteger(pid) ? pid : undefined;
}

function isRunning(pid: number): boolean {
  // Our own pid in a lock we do not hold is a leftover from an earlier run that had the
  // same pid (common in containers, where pids restart from 1).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
