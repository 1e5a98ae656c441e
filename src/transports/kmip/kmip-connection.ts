import type { TLSSocket } from "node:tls";
import type { Principal } from "../../core/access/index.js";
import type { Logger } from "../../core/shared/logger.js";
import type { KmipProcessor } from "./kmip-processor.js";
import { HEADER_BYTES, readHeader } from "./ttlv/codec.js";
import { ITEM_TYPE } from "./ttlv/item.js";
import { TAG } from "./ttlv/tags.js";

/** Limits of one client connection. */
export interface ConnectionLimits {
  /** Largest request message, header included. */
  readonly maxMessageBytes: number;
  /** A connection with no request in flight and nothing received for this long is closed. */
  readonly idleTimeoutMs: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * One KMIP client on one TLS connection. KMIP has no framing of its own: each message is one
 * Request Message item, so the 8-byte header gives its length (KMIP 1.4 §9.1; the reference's
 * §1.1). Messages are answered one at a time, in order; a message that decodes badly gets an
 * error response and the connection stays usable. What cannot be framed (a stream that does not
 * start with a Request Message header, or a message over the size limit) gets an answer when one is
 * possible, and then the connection is closed: there is no way to find the next message in it.
 */
export class KmipConnection {
  private buffer: Buffer = EMPTY;
  private busy = false;
  private closing = false;
  private sequence = 0;
  /** Set while a message is partly received: it must be complete within the idle timeout. */
  private partialTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: TLSSocket,
    /** The client's principal, or why its certificate is not accepted. */
    private readonly client: { readonly principal: Principal } | { readonly refusal: string },
    private readonly processor: KmipProcessor,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
    private readonly id: string,
  ) {}

  start(): void {
    const { socket } = this;
    socket.setNoDelay(true);
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (this.busy) return;
      this.logger.debug({ connection: this.id }, "KMIP: idle connection closed");
      socket.destroy();
    });
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error: Error) => this.logger.debug({ connection: this.id, err: error.message }, "KMIP: connection error"));
    socket.on("close", () => {
      this.closing = true;
      clearTimeout(this.partialTimer);
    });
  }

  /** Stops after the message in flight (server shutdown). */
  finish(): void {
    this.closing = true;
    if (!this.busy) this.socket.end();
  }

  /** Cuts the connection (shutdown grace period over). */
  abort(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    // Backpressure: one whole message may wait while another is served; beyond that, stop reading.
    if (this.buffer.length > 2 * this.limits.maxMessageBytes) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closing && this.buffer.length >= HEADER_BYTES) {
        const { tag, type, length } = readHeader(this.buffer);
        if (tag !== TAG.RequestMessage || type !== ITEM_TYPE.Structure) {
          this.logger.debug({ connection: this.id }, "KMIP: stream does not start with a Request Message; closing");
          return this.close();
        }
        const total = HEADER_BYTES + length + ((8 - (length % 8)) % 8);
        if (total > this.limits.maxMessageBytes) {
          this.logger.debug({ connection: this.id, bytes: total }, "KMIP: message over the size limit; answering and closing");
          await this.write(this.processor.refuseOversized(this.buffer.subarray(0, Math.min(this.buffer.length, 64)), this.limits.maxMessageBytes));
          return this.close();
        }
        if (this.buffer.length < total) break;
        const message = this.buffer.subarray(0, total);
        this.buffer = this.buffer.length === total ? EMPTY : this.buffer.subarray(total);
        clearTimeout(this.partialTimer);
        this.partialTimer = undefined;
        if ("refusal" in this.client) {
          await this.write(this.processor.refuseClient(message, this.client.refusal));
          return this.close();
        }
        // Each message gets a request id (connection id . sequence): its audit records and log lines carry it.
        const requestId = `${this.id}.${++this.sequence}`;
        const started = process.hrtime.bigint();
        const response = await this.processor.handle(this.client.principal, message, requestId);
        // Debug, not info: one connection carries thousands of messages a second.
        this.logger.debug({ requestId, principal: this.client.principal.id, bytes: message.length, ms: Number(process.hrtime.bigint() - started) / 1e6 }, "KMIP request");
        if (this.closing && this.socket.destroyed) return;
        await this.write(response);
      }
      this.watchPartialMessage();
      if (this.socket.isPaused() && this.buffer.length <= 2 * this.limits.maxMessageBytes) this.socket.resume();
    } catch (error) {
      // processor.handle never throws for a client's input; this is a fault: drop the connection.
      this.logger.error({ connection: this.id, err: error }, "KMIP: connection failed");
      this.socket.destroy();
    } finally {
      this.busy = false;
      if (this.closing && !this.socket.destroyed) this.socket.end();
    }
  }

  /**
   * A client that sends a message a byte at a time keeps the socket from going idle; the message
   * itself still has to arrive within the idle timeout (slow-send protection).
   */
  private watchPartialMessage(): void {
    if (this.buffer.length === 0) {
      clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
    } else if (this.partialTimer === undefined) {
      this.partialTimer = setTimeout(() => {
        this.logger.debug({ connection: this.id }, "KMIP: message not completed in time; closing");
        this.socket.destroy();
      }, this.limits.idleTimeoutMs);
      this.partialTimer.unref();
    }
  }

  private write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(bytes)) resolve();
      else this.socket.once("drain", resolve).once("close", resolve);
    });
  }

  private close(): void {
    this.closing = true;
    this.buffer = EMPTY;
    this.socket.end();
  }
}
