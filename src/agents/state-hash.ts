import * as dagCbor from '@ipld/dag-cbor';
import { toHex } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';
import type { JsonValue } from '../ledger/json-value.js';

/** Hex SHA-256 of the canonical DAG-CBOR encoding of a JSON value: the hash committed for an agent's state. */
export function stateHash(value: JsonValue): string {
  return toHex(sha256(dagCbor.encode(value)));
}
