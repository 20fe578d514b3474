import { utf8 } from '../bytes.js';
import { sha256 } from '../crypto/sha256.js';

/** The guest PRNG seed of one step: the first 16 bytes of SHA-256("naos/agent-seed\n" ‖ agent id ‖ "\n" ‖ step) as four words. */
export function stepSeed(agentId: string, step: number): [number, number, number, number] {
  const digest = sha256(utf8(`naos/agent-seed\n${agentId}\n${step}`));
  const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
  return [view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12)];
}
