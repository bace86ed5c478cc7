// The part of fs-native-extensions (a CommonJS addon without its own types) that the data-directory lock uses.
declare module 'fs-native-extensions' {
  /** An exclusive (or shared) advisory lock on an open file: false when another holder has it. */
  export function tryLock(fd: number, opts?: { shared?: boolean }): boolean
}
