// Minimal command-line parsing: `--name value`, `--name=value` and boolean `--flag`.

/**
 * Parse argv against a spec { name: { type: 'string'|'int'|'number'|'bool', default } }.
 * Unknown options and missing values are errors; `--help` sets `help`.
 */
export function parseArgs(argv, spec) {
  const out = {};
  for (const [name, s] of Object.entries(spec)) out[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const s = spec[name];
    if (!s) throw new Error(`unknown option --${name}`);
    if (s.type === 'bool') {
      out[name] = value === undefined ? true : !['0', 'false', 'no'].includes(value);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
      value = argv[++i];
    }
    if (s.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw new Error(`--${name}: '${value}' is not an integer`);
      out[name] = Number(value);
    } else if (s.type === 'number') {
      const v = Number(value);
      if (!Number.isFinite(v)) throw new Error(`--${name}: '${value}' is not a number`);
      out[name] = v;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** Run an async CLI main, printing `error: message` and exiting 1 (or 64 for usage) on failure. */
export function runMain(main) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`error: ${err.message}\n`);
    if (process.env.SALIENT_EXTRACT_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.exit(err.usage ? 64 : 1);
  });
}

/** An Error flagged as a usage error. */
export function usageError(message) {
  const e = new Error(message);
  e.usage = true;
  return e;
}
