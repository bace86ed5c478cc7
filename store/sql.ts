/**
 * The SQL vocabulary every query file shares, in a leaf that imports nothing of the store: the
 * transaction type, nestable fragments, and the entry column list. Query files import these from here,
 * never from the connection class, so the store's modules form no circle.
 */
import type { TransactionSql } from 'postgres'
import { ENTRY_COLUMNS } from './rows.js'

/** An owner (or system) transaction; every query function takes one first. */
export type Tx = TransactionSql

/** A SQL fragment built with the transaction's tag. */
export type Fragment = ReturnType<Tx['unsafe']>

/** A fragment joining conditions with AND (postgres.js fragments nest as bind-safe SQL). */
export function and(tx: Tx, conds: Fragment[]): Fragment {
  return conds.reduce((acc, c) => tx`${acc} AND ${c}`)
}

/** The columns `toEntry` maps, as a fragment (a constant: no caller data ever reaches `unsafe`). */
export function entryColumns(tx: Tx): Fragment {
  return tx.unsafe(ENTRY_COLUMNS)
}
