// Replaced by the integration setup (database + Redis) in the foundation work.
export default function setup(): void {}
