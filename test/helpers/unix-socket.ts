// Unix socket files in the states a plugin meets at start.
import { spawn } from "node:child_process";
import { lstatSync } from "node:fs";

/**
 * Leaves a stale socket file at `socketPath`, as a plugin killed with SIGKILL does: a child process
 * binds it and is killed, so the file stays and nobody listens (connecting gives ECONNREFUSED).
 */
export async function leaveStaleSocket(socketPath: string): Promise<void> {
  const child = spawn(process.execPath, ["-e", "require('net').createServer().listen(process.argv[1], () => console.log('listening'))", socketPath], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the socket holder exited before listening (${code})`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  if (!lstatSync(socketPath).isSocket()) throw new Error(`${socketPath} is not a socket file after SIGKILL`);
}
