/**
 * Where the live run's records come from: simulated NICs (domain/simulate) played one record per NIC per
 * tick, or a folder of real Azure-layout flow logs replayed the same way. Each source is a set of streams
 * (one per NIC); a stream plays its hours one after the other, so every NIC rolls over to the next hour's
 * blob after its last record of the hour.
 */
import { collectInputs } from '../../cli/files';
import { parseHourPath } from '../../domain/blob-identity';
import { type SimulatedBlob, simulateBlobs } from '../../domain/simulate/simulate';
import { recordsOf, replayTarget } from '../replay';

/** One record to commit: the blob it goes to and its JSON text. */
export interface TrafficRecord {
  readonly stream: number;
  readonly container: string;
  readonly name: string;
  readonly logType: 'nsg' | 'vnet';
  /** Zero-based position of the record in its blob. */
  readonly ordinal: number;
  readonly json: string;
  /** The record's `time` when it has one (for the view's data clock). */
  readonly time: string | null;
  /** This is the blob's last record (its NIC moves on to the next hour's blob). */
  readonly lastOfBlob: boolean;
}

export interface TrafficSource {
  readonly description: string;
  readonly streams: number;
  /** The next record of every stream that still has one; empty when the source is exhausted. */
  next(): Promise<TrafficRecord[]>;
  readonly exhausted: boolean;
}

const RECORD_TIME = /"time"\s*:\s*"([^"]+)"/;

export function recordTime(json: string): string | null {
  return RECORD_TIME.exec(json.slice(0, 200))?.[1] ?? null;
}

export interface SimulatedTrafficOptions {
  readonly nsgs: number;
  readonly vnets: number;
  readonly seed: number;
  readonly flowsPerMinute: number;
  readonly minutesPerHour: number;
  /** First simulated hour (truncated to the hour). */
  readonly start: Date;
  /**
   * Hours generated at once; the next batch is generated in small steps while this one plays. Default: 6
   * with full hours, 1 with shortened ones (a shortened hour skips the rest of the hour, and flows that
   * stayed open across that gap would report all of its traffic in the next hour's first minute).
   */
  readonly batchHours?: number;
}

const HOUR = 3_600_000;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Endless simulated traffic. The simulator writes NIC after NIC, so hours are generated in batches (each
 * with its own derived seed) and played in step across NICs. Every NIC keeps the MAC of the first batch,
 * so its blob names stay those of one NIC; flows in progress do not carry over from one batch to the next.
 */
export class SimulatedTraffic implements TrafficSource {
  readonly streams: number;
  readonly description: string;
  readonly exhausted = false;
  private readonly batchHours: number;
  private batch = 0;
  /** blobs[nic][hourInBatch] of the batch being played. */
  private current: SimulatedBlob[][];
  private nextBatch: Promise<SimulatedBlob[][]> | undefined;
  private hour = 0;
  private minute = 0;
  private readonly macs: string[];

  constructor(private readonly options: SimulatedTrafficOptions) {
    this.streams = options.nsgs + options.vnets;
    this.batchHours = options.batchHours ?? (options.minutesPerHour < 60 ? 1 : 6);
    this.description = `simulated ${options.nsgs} NSG + ${options.vnets} VNet NICs`;
    this.current = this.generateNow(0);
    this.macs = this.current.map((hours) => macOf(hours[0]!));
  }

  async next(): Promise<TrafficRecord[]> {
    if (this.minute >= this.options.minutesPerHour) {
      this.minute = 0;
      this.hour++;
      if (this.hour >= this.batchHours) {
        this.batch++;
        this.hour = 0;
        this.current = this.macStable(await (this.nextBatch ?? this.generateLater(this.batch)));
        this.nextBatch = undefined;
      }
    }
    // Start generating the next batch while the last hours of this one play.
    if (this.nextBatch === undefined && this.hour >= this.batchHours - 2 && this.minute >= 1) {
      this.nextBatch = this.generateLater(this.batch + 1);
      this.nextBatch.catch(() => undefined);
    }
    const out: TrafficRecord[] = [];
    for (let nic = 0; nic < this.current.length; nic++) {
      const blob = this.current[nic]![this.hour]!;
      const json = blob.records[this.minute]!;
      out.push({
        stream: nic,
        container: blob.container,
        name: blob.name,
        logType: blob.logType,
        ordinal: this.minute,
        json,
        time: recordTime(json),
        lastOfBlob: this.minute === blob.records.length - 1,
      });
    }
    this.minute++;
    return out;
  }

  private batchOptions(batch: number) {
    const o = this.options;
    return {
      nsgs: o.nsgs,
      vnets: o.vnets,
      hours: this.batchHours,
      flowsPerMinute: o.flowsPerMinute,
      // Derived per batch, so traffic does not repeat; batch 0 uses the seed as given.
      seed: (o.seed + batch * 7919) >>> 0,
      start: new Date(Math.floor(o.start.getTime() / HOUR) * HOUR + batch * this.batchHours * HOUR),
      minutesPerHour: o.minutesPerHour,
    };
  }

  private group(blobs: SimulatedBlob[]): SimulatedBlob[][] {
    const byNic: SimulatedBlob[][] = [];
    // simulateBlobs yields NIC after NIC, each NIC's hours in order.
    for (let i = 0; i < blobs.length; i++) {
      const nic = Math.floor(i / this.batchHours);
      const hours = byNic[nic] ?? [];
      hours.push(blobs[i]!);
      byNic[nic] = hours;
    }
    return byNic;
  }

  private generateNow(batch: number): SimulatedBlob[][] {
    return this.group([...simulateBlobs(this.batchOptions(batch))]);
  }

  /** One NIC-hour per turn of the event loop, so generating never stalls the running app for long. */
  private async generateLater(batch: number): Promise<SimulatedBlob[][]> {
    const blobs: SimulatedBlob[] = [];
    for (const blob of simulateBlobs(this.batchOptions(batch))) {
      blobs.push(blob);
      await yieldToLoop();
    }
    return this.group(blobs);
  }

  /** Gives each NIC of a later batch the MAC it had in the first batch (names and records alike). */
  private macStable(batch: SimulatedBlob[][]): SimulatedBlob[][] {
    return batch.map((hours, nic) => {
      const want = this.macs[nic];
      return hours.map((blob) => {
        const have = macOf(blob);
        if (!want || have === want) return blob;
        return {
          ...blob,
          name: blob.name.replace(`macAddress=${have}/`, `macAddress=${want}/`),
          records: blob.records.map((r) => r.replaceAll(have, want)),
        };
      });
    });
  }
}

function macOf(blob: SimulatedBlob): string {
  return parseHourPath(blob.name)?.macAddress ?? '';
}

interface FolderBlob {
  readonly path: string;
  readonly name: string;
  readonly container: string;
  readonly hour: number;
}

interface FolderStream {
  readonly blobs: FolderBlob[];
  index: number;
  records: string[] | undefined;
  next: number;
}

/**
 * A folder of real flow logs in Azure's layout (as downloaded from the flow-log containers, or written by
 * `flowlog simulate`). Files of one NIC (same resource and MAC) form a stream played hour after hour; all
 * NICs play at once. Records are read when their file's turn comes.
 */
export class FolderTraffic implements TrafficSource {
  readonly description: string;
  readonly streams: number;
  private readonly list: FolderStream[];

  private constructor(dir: string, streams: FolderStream[], files: number) {
    this.list = streams;
    this.streams = streams.length;
    this.description = `replaying ${files} file${files === 1 ? '' : 's'} (${streams.length} NIC${streams.length === 1 ? '' : 's'}) from ${dir}`;
  }

  static async open(dir: string): Promise<FolderTraffic> {
    const inputs = await collectInputs([dir]);
    if (inputs.length === 0) throw new Error(`${dir}: no .json flow-log files found`);
    const byNic = new Map<string, FolderBlob[]>();
    for (const input of inputs) {
      const target = replayTarget(input.path, input.identity);
      const hour = parseHourPath(target.name)?.hourStart.getTime() ?? 0;
      // One NIC: the blob name without its hour folders.
      const nic = `${target.container}/${target.name.replace(/\/y=\d{4}\/m=\d{2}\/d=\d{2}\/h=\d{2}\/m=\d{2}\//, '/')}`;
      const list = byNic.get(nic) ?? [];
      list.push({ path: input.path, name: target.name, container: target.container, hour });
      byNic.set(nic, list);
    }
    const streams = [...byNic.keys()].sort().map((nic) => ({
      blobs: byNic.get(nic)!.sort((a, b) => a.hour - b.hour || (a.name < b.name ? -1 : 1)),
      index: 0,
      records: undefined,
      next: 0,
    }));
    return new FolderTraffic(dir, streams, inputs.length);
  }

  get exhausted(): boolean {
    return this.list.every((s) => s.index >= s.blobs.length);
  }

  async next(): Promise<TrafficRecord[]> {
    const out: TrafficRecord[] = [];
    for (let i = 0; i < this.list.length; i++) {
      const s = this.list[i]!;
      for (;;) {
        const blob = s.blobs[s.index];
        if (!blob) break;
        s.records ??= await recordsOf(blob.path);
        const json = s.records[s.next];
        if (json === undefined) {
          // An empty (or finished) file: go on with the NIC's next hour.
          s.index++;
          s.records = undefined;
          s.next = 0;
          continue;
        }
        const ordinal = s.next++;
        const last = s.next >= s.records.length;
        out.push({
          stream: i,
          container: blob.container,
          name: blob.name,
          logType: blob.name.startsWith('flowLogResourceID=') ? 'vnet' : 'nsg',
          ordinal,
          json,
          time: recordTime(json),
          lastOfBlob: last,
        });
        if (last) {
          s.index++;
          s.records = undefined;
          s.next = 0;
        }
        break;
      }
    }
    return out;
  }
}
