/** Help texts; docs/CLI.md says the same at more length. */

const DATA = `  --data DIR, -d DIR  the node's data dir (default: .naos in the current directory)`;
const JSON_FLAG = `  --json              print one JSON document on stdout instead of text`;
const EXITS = `Exit codes: 0 ok, 1 verification failed, 2 bad input or usage, 3 internal error.`;

export const MAIN_HELP = `naos — a Naos node's signed, append-only Merkle ledger on the command line

Usage:
  naos ledger <command> [--data DIR] [--json] [options]
  naos verify EXPORT [--json]
  naos help [command]   (or: naos <command> --help)

Ledger commands, on the node in DIR:
  init          create the node (key, ledger, log); says so if it already exists
  append        append JSON values, one per line, from --file F or stdin, as one atomic batch
  checkpoint    print the latest signed checkpoint note
  key           print the node's verifier key string
  prove         inclusion proof of entry --index I in the tree of --size N (default: all)
  consistency   consistency proof between tree sizes --from M and --to N (default: all)
  export        write the ledger export (JSON) to --out FILE or stdout
  status        node id, log size, root and integrity of the stored ledger

Offline:
  verify EXPORT check an export without a node: signatures, roots, proofs, seal

Options:
${DATA}
${JSON_FLAG}
  --help, -h          help for a command
  --version           print the version

${EXITS}
`;

export const COMMAND_HELP: Record<string, string> = {
  'ledger init': `Usage: naos ledger init [--data DIR] [--json]

Creates the node in DIR: an Ed25519 key in DIR/node.key (mode 0600), the LevelDB
ledger in DIR/ledger and the node's log with its signed size-0 checkpoint. Running it
again changes nothing and says the node already exists.

Options:
${DATA}
${JSON_FLAG}

Prints the node id, log origin and verifier key. ${EXITS}
`,
  'ledger append': `Usage: naos ledger append [--file F] [--kind KIND] [--data DIR] [--json]

Appends JSON values, one per line, read from F (or stdin when --file is absent or "-").
Blank lines are skipped. Every line is checked before anything is written; one bad line
(reported with its number) rejects the whole input. The values are then appended as one
atomic batch under one new signed checkpoint.

Options:
  --file F, -f F      read the lines from F ("-" for stdin)
  --kind KIND         entry kind (default: data), e.g. note or sensor.reading
${DATA}
${JSON_FLAG}

Prints index and id (CIDv1) per entry; --json prints [{"index", "id"}, …]. ${EXITS}
`,
  'ledger checkpoint': `Usage: naos ledger checkpoint [--data DIR] [--json]

Prints the latest signed checkpoint: a C2SP tlog-checkpoint in a C2SP signed note.
--json prints {"origin", "size", "note"}.

Options:
${DATA}
${JSON_FLAG}

${EXITS}
`,
  'ledger key': `Usage: naos ledger key [--data DIR] [--json]

Prints the node's verifier key string (name+keyhash+base64(0x01‖public key)), which
anyone can use to check the node's checkpoints. --json prints {"nodeId", "origin", "verifierKey"}.

Options:
${DATA}
${JSON_FLAG}

${EXITS}
`,
  'ledger prove': `Usage: naos ledger prove --index I [--size N] [--data DIR] [--json]

Prints the RFC 9162 inclusion proof of entry I in the tree of the first N entries
(default: the whole log): {"origin", "index", "size", "leafHash", "proof": [...], "root"},
hashes in lower-case hex.

Options:
  --index I           the entry (0-based)
  --size N            the tree size to prove against (I < N ≤ log size)
${DATA}
${JSON_FLAG}

${EXITS}
`,
  'ledger consistency': `Usage: naos ledger consistency --from M [--to N] [--data DIR] [--json]

Prints the RFC 9162 consistency proof that the tree of N entries extends the tree of M
(0 < M ≤ N ≤ log size; N defaults to the log size):
{"origin", "size1", "size2", "root1", "root2", "proof": [...]}, hashes in lower-case hex.

Options:
  --from M            the older tree size (at least 1)
  --to N              the newer tree size
${DATA}
${JSON_FLAG}

${EXITS}
`,
  'ledger export': `Usage: naos ledger export [--out FILE] [--data DIR] [--json]

Writes the ledger export (format naos-ledger-export/1, docs/EXPORT.md): entries,
signed checkpoints, an inclusion proof per entry and consistency proofs between
checkpoints. Without --out the export goes to stdout; with --out a summary is printed
(and, on a terminal, the progress on stderr meanwhile).

Options:
  --out FILE, -o FILE write the export to FILE
${DATA}
${JSON_FLAG}

${EXITS}
`,
  'ledger status': `Usage: naos ledger status [--data DIR] [--json]

Opens the node, re-verifies every stored log and prints node id, log size, root, state
root and integrity. A damaged ledger is reported with where and what, and exits 1.

Options:
${DATA}
${JSON_FLAG}

${EXITS}
`,
  verify: `Usage: naos verify EXPORT [--json]

Checks a ledger export fully offline ("-" reads it from stdin) and prints each check
as passed (✓) or failed (✗): the verifier key, every checkpoint signature, checkpoint
sizes, every entry's encoding, author and sequence, the root at every checkpoint, every
inclusion proof, the consistency proofs between checkpoints, and the seal (the latest
signed checkpoint covers every entry). --json prints {"ok", "checks": [{"name", "ok", "detail"}]}.

Options:
${JSON_FLAG}

Exit codes: 0 every check passed, 1 a check failed, 2 EXPORT is unreadable or not an export.
`,
};
