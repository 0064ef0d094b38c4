// The compliance-audit CLI: `node --conditions=@streamkit/source --import tsx src/main.ts <command> ...`
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exitCode = code;
