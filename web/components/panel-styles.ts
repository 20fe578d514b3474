import { css } from 'lit';

/** The look every panel shares: cards, definition lists, tables, forms, verdict colours. */
export const panelStyles = css`
  :host {
    display: grid;
    gap: 1rem;
  }
  .card {
    background: var(--naos-surface, #fff);
    border: 1px solid var(--naos-border, #d0d7de);
    border-radius: 8px;
    padding: 1rem 1.25rem;
    margin: 0;
    min-width: 0;
  }
  .alert {
    border-color: #cf222e;
    background: #ffebe9;
    color: #5c0011;
  }
  h2 {
    margin: 0 0 0.75rem;
    font-size: 1.1rem;
  }
  h3 {
    margin: 1rem 0 0.5rem;
    font-size: 0.95rem;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.35rem 1rem;
    margin: 0;
  }
  dt {
    color: var(--naos-muted, #57606a);
  }
  dd {
    margin: 0;
    min-width: 0;
  }
  code,
  pre,
  select,
  input {
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: 0.85rem;
  }
  .hash,
  pre {
    word-break: break-all;
    white-space: pre-wrap;
  }
  /* A shortened id (the full one in its title) stays on one line. */
  .hash.short {
    word-break: normal;
    white-space: nowrap;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 0.25rem 0.5rem;
    border-bottom: 1px solid var(--naos-border, #d0d7de);
    overflow-wrap: break-word;
    vertical-align: top;
  }
  button {
    padding: 0.3rem 0.9rem;
    border-radius: 6px;
    border: 1px solid #1f6feb;
    background: #1f6feb;
    color: #fff;
    cursor: pointer;
  }
  button.secondary {
    background: transparent;
    color: #1f6feb;
  }
  button[disabled] {
    opacity: 0.5;
    cursor: not-allowed;
  }
  label {
    font-weight: 600;
  }
  .row {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    flex-wrap: wrap;
  }
  .muted {
    color: var(--naos-muted, #57606a);
  }
  .ok {
    color: #1a7f37;
  }
  .error {
    color: #cf222e;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .verdict {
    list-style: none;
    padding: 0;
    margin: 0.5rem 0 0;
    font-weight: 600;
  }
`;
