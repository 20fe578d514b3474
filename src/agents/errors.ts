import { InvalidInputError, NaosError } from '../errors.js';

/** Not a valid agent id `agent:<name>::<shard-region>`. */
export class InvalidAgentIdError extends InvalidInputError {}

/** No agent with this id is registered in the PolicyLedger this node holds. */
export class AgentNotFoundError extends NaosError {}

/** The agent exists but another node hosts it (or it is on its way to one); names the host. */
export class AgentNotHostedError extends NaosError {}

/** An agent with this id is already registered. */
export class AgentExistsError extends NaosError {}

/**
 * The agent's program does not load in the sandbox: it does not compile, throws at its top
 * level, runs past a limit there, or defines no function `step`. The message says which.
 */
export class InvalidProgramError extends InvalidInputError {}

/** The agent's program (or a module) is not held by this node yet: its chunks have not arrived. */
export class ContentUnavailableError extends NaosError {}

/** Bytes do not hash to the CID they were fetched under. */
export class ContentHashMismatchError extends NaosError {}

/** A passport failed verification; `reason` says which check. */
export class PassportError extends NaosError {}

/** The restored state of a rolled-back agent does not hash to its committed state hash. */
export class RollbackVerificationError extends NaosError {}

/** A module name, version or kind is not registered or not usable here. */
export class ModuleError extends NaosError {}
