import { MemoryHub } from '../../src/federation/memory-transport.js';
import { transportContract } from './transport-contract.js';

transportContract('memory', () => ({
  addressed: true,
  connect: (nodeIds) => {
    const hub = new MemoryHub();
    return Promise.resolve(nodeIds.map((id) => hub.join(id)));
  },
}));
