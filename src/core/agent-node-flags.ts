/**
 * Node options for a long-running agent, given wherever we start one (the service units, the
 * container image, the desktop app's stand-in, the bench). V8's young generation grows with
 * bursts of allocation (1,000 control channels opening, a traffic peak) up to 64 MiB per
 * semi-space on a machine with much memory, and an idle agent runs no collection that would shrink
 * it again: an agent with 1,000 Hybrid Connections kept ~100 MiB more resident than it used.
 * 8 MiB per semi-space cost no throughput in the bench, and each idle tunnel holds less
 * (docs/performance.md, change 4).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
