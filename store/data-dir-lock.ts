/**
 * The embedded data directory's lock (audit H3, L9): an exclusive advisory lock held by the kernel on an open
 * file, `<dataDir>/awareness.lock`. It is released when its holder closes the file or dies in any way —
 * kill -9, OOM, a host reboot — so a lock left behind never blocks a start, whatever PID the next process
 * gets (in a container node is PID 1 every time), while a live holder always blocks a second opener.
 *
 * On Linux the lock is an open-file-description lock (fcntl F_OFD_SETLK), so it also refuses a second
 * open of the same directory inside one process; on macOS it is flock, with the same semantics. Taking it
 * is a single system call, so two processes starting at once cannot both win. The file is never deleted:
 * unlinking a locked file would let the next starter lock a new file of the same name while the holder
 * still has the old one. The holder's PID is written into it only to name it in the refusal.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tryLock } from 'fs-native-extensions'

export const LOCK_FILE = 'awareness.lock'

export class DataDirInUseError extends Error {
  constructor(dataDir: string, holder: string) {
    super(`The data directory ${resolve(dataDir)} is in use${holder === '' ? '' : ` by process ${holder}`}; only one process may open it.`)
    this.name = 'DataDirInUseError'
  }
}

/** Takes the lock on `dataDir` (which must exist) or throws DataDirInUseError. Returns the release. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE)
  // 'a+' neither truncates (the holder's PID stays readable for the refusal) nor fails when the file exists.
  const fd = openSync(path, 'a+', 0o600)
  let locked = false
  try {
    locked = tryLock(fd)
  } finally {
    if (!locked) closeSync(fd)
  }
  if (!locked) throw new DataDirInUseError(dataDir, readHolder(path))
  ftruncateSync(fd, 0)
  writeSync(fd, `${process.pid}\n`, 0)
  let released = false
  return () => {
    if (released) return
    released = true
    closeSync(fd) // closing the last descriptor of the file releases the lock
  }
}

function readHolder(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().slice(0, 20)
  } catch {
    return ''
  }
}
