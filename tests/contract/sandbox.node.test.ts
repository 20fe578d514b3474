import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { CONTRACT_LIMITS, sandboxContract } from './sandbox-contract.js';

sandboxContract('in-process (Node)', () => new InProcessSandbox(CONTRACT_LIMITS));
