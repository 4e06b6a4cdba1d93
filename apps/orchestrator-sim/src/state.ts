import { randomUUID } from 'node:crypto';

export interface SimFolder {
  Id: number;
  Key: string;
  DisplayName: string;
  FullyQualifiedName: string;
  FullyQualifiedNameOrderable: string;
  Description: null;
  ProvisionType: 'Automatic';
  PermissionModel: 'FineGrained';
  ParentId: null;
  ParentKey: null;
  IsActive: true;
  FeedType: 'Processes';
}

export interface SimRelease {
  Key: string;
  ProcessKey: string;
  ProcessVersion: string;
  IsLatestVersion: boolean;
  IsProcessDeleted: boolean;
  Description: string;
  Name: string;
  EnvironmentId: null;
  EnvironmentName: string;
  EntryPointId: null;
  InputArguments: null;
  ProcessType: 'Process';
  SupportsMultipleEntryPoints: boolean;
  RequiresUserInteraction: boolean;
  AutoUpdate: boolean;
  FeedId: string;
  JobPriority: string;
  CreationTime: string;
  OrganizationUnitId: number;
  OrganizationUnitFullyQualifiedName: string;
  Id: number;
  Arguments: { Input: null; Output: null };
  ProcessSettings: null;
}

export interface SimJob {
  Key: string;
  StartTime: string | null;
  EndTime: string | null;
  State: 'Pending' | 'Running' | 'Successful' | 'Faulted' | 'Stopped';
  JobPriority: string;
  Source: 'Manual';
  SourceType: 'Manual';
  BatchExecutionKey: string;
  Info: string | null;
  CreationTime: string;
  StartingScheduleId: null;
  ReleaseName: string;
  Type: 'Unattended';
  InputArguments: string | null;
  OutputArguments: string | null;
  HostMachineName: string | null;
  HasMediaRecorded: false;
  PersistenceId: null;
  ResumeVersion: null;
  StopStrategy: null;
  RuntimeType: 'Unattended';
  RequiresUserInteraction: boolean;
  ReleaseVersionId: null;
  EntryPointPath: null;
  OrganizationUnitId: number;
  OrganizationUnitFullyQualifiedName: string;
  Reference: string | null;
  ProcessType: 'Process';
  Id: number;
  /** Not part of JobDto: which release it ran (kept for assertions). */
  ReleaseKey: string;
}

export interface SimQueue {
  Id: number;
  Key: string;
  Name: string;
  OrganizationUnitId: number;
  EnforceUniqueReference: boolean;
}

export interface SimQueueItem {
  QueueDefinitionId: number;
  OutputData: null;
  AnalyticsData: null;
  Status: 'New' | 'InProgress' | 'Successful' | 'Failed';
  ReviewStatus: 'None';
  ReviewerUserId: null;
  Key: string;
  Reference: string | null;
  ProcessingExceptionType: null;
  DueDate: string | null;
  RiskSlaDate: null;
  Priority: string;
  DeferDate: string | null;
  StartProcessing: string | null;
  EndProcessing: string | null;
  SecondsInPreviousAttempts: 0;
  AncestorId: null;
  RetryNumber: 0;
  SpecificData: string;
  CreationTime: string;
  Progress: null;
  RowVersion: string;
  OrganizationUnitId: number;
  OrganizationUnitFullyQualifiedName: string;
  Id: number;
  ProcessingException: null;
  SpecificContent: Record<string, unknown>;
  Output: null;
  Analytics: null;
}

export interface SimSettings {
  /** Robots shared by all processes; work beyond them waits (Pending / New). */
  robots: number;
  /** How long a robot is busy with one job or item. */
  jobMs: number;
  tokenTtlSeconds: number;
  /** Collection queries (Jobs / QueueItems with a filter) per minute per tenant. */
  collectionLimitPerMinute: number;
  /** Seconds sent as Retry-After on a rate-limited 429 (0: no header, since the real one is unconfirmed). */
  rateLimitRetryAfterSeconds: number;
  /** Status for a duplicate queue Reference (1016); 409 by default. */
  duplicateReferenceStatus: number;
}

const isoNow = () => new Date().toISOString();

/** Everything the simulator holds; timers move work through robot capacity. */
export class SimState {
  folders: SimFolder[] = [];
  releases: SimRelease[] = [];
  queues: SimQueue[] = [];
  jobs: SimJob[] = [];
  queueItems: SimQueueItem[] = [];
  tokens = new Map<string, number>();
  stats = { tokenRequests: 0, requests: {} as Record<string, number>, rateLimited: 0 };
  /** Outcomes forced on the next jobs to finish (e.g. `Faulted`). */
  forcedOutcomes: SimJob['State'][] = [];
  private nextId = 1000;
  private busy = 0;
  private waiting: (() => void)[] = [];
  private timers = new Set<NodeJS.Timeout>();

  constructor(public settings: SimSettings) {}

  id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  ensureFolder(spec: { path?: string; id?: number; key?: string }): SimFolder {
    const found = this.folders.find(
      (f) =>
        (spec.path !== undefined && f.FullyQualifiedName.toLowerCase() === spec.path.toLowerCase()) ||
        (spec.id !== undefined && f.Id === spec.id) ||
        (spec.key !== undefined && f.Key.toLowerCase() === spec.key.toLowerCase()),
    );
    if (found) return found;
    const path = spec.path ?? (spec.id !== undefined ? `Folder${spec.id}` : `Folder-${(spec.key ?? '').slice(0, 8)}`);
    const folder: SimFolder = {
      Id: spec.id ?? this.id(),
      Key: spec.key ?? randomUUID(),
      DisplayName: path.split('/').pop() ?? path,
      FullyQualifiedName: path,
      FullyQualifiedNameOrderable: path,
      Description: null,
      ProvisionType: 'Automatic',
      PermissionModel: 'FineGrained',
      ParentId: null,
      ParentKey: null,
      IsActive: true,
      FeedType: 'Processes',
    };
    this.folders.push(folder);
    return folder;
  }

  ensureRelease(processKey: string, folder: SimFolder): SimRelease {
    const found = this.releases.find((r) => r.ProcessKey === processKey && r.OrganizationUnitId === folder.Id);
    if (found) return found;
    const release: SimRelease = {
      Key: randomUUID(),
      ProcessKey: processKey,
      ProcessVersion: '1.0.0',
      IsLatestVersion: true,
      IsProcessDeleted: false,
      Description: `Simulated ${processKey}`,
      Name: processKey,
      EnvironmentId: null,
      EnvironmentName: '',
      EntryPointId: null,
      InputArguments: null,
      ProcessType: 'Process',
      SupportsMultipleEntryPoints: false,
      RequiresUserInteraction: false,
      AutoUpdate: false,
      FeedId: randomUUID(),
      JobPriority: 'Normal',
      CreationTime: isoNow(),
      OrganizationUnitId: folder.Id,
      OrganizationUnitFullyQualifiedName: folder.FullyQualifiedName,
      Id: this.id(),
      Arguments: { Input: null, Output: null },
      ProcessSettings: null,
    };
    this.releases.push(release);
    return release;
  }

  ensureQueue(name: string, folder: SimFolder): SimQueue {
    const found = this.queues.find(
      (q) => q.Name.toLowerCase() === name.toLowerCase() && q.OrganizationUnitId === folder.Id,
    );
    if (found) return found;
    const queue: SimQueue = {
      Id: this.id(),
      Key: randomUUID(),
      Name: name,
      OrganizationUnitId: folder.Id,
      EnforceUniqueReference: true,
    };
    this.queues.push(queue);
    return queue;
  }

  issueToken(): { token: string; expiresIn: number } {
    const token = `sim_${randomUUID().replace(/-/g, '')}`;
    this.tokens.set(token, Date.now() + this.settings.tokenTtlSeconds * 1000);
    this.stats.tokenRequests++;
    return { token, expiresIn: this.settings.tokenTtlSeconds };
  }

  tokenValid(token: string): boolean {
    const until = this.tokens.get(token);
    return until !== undefined && until > Date.now();
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  createJob(
    release: SimRelease,
    folder: SimFolder,
    startInfo: { InputArguments?: string; Reference?: string; JobPriority?: string },
  ): SimJob {
    const job: SimJob = {
      Key: randomUUID(),
      StartTime: null,
      EndTime: null,
      State: 'Pending',
      JobPriority: startInfo.JobPriority ?? release.JobPriority,
      Source: 'Manual',
      SourceType: 'Manual',
      BatchExecutionKey: randomUUID(),
      Info: null,
      CreationTime: isoNow(),
      StartingScheduleId: null,
      ReleaseName: release.Name,
      Type: 'Unattended',
      InputArguments: startInfo.InputArguments ?? null,
      OutputArguments: null,
      HostMachineName: null,
      HasMediaRecorded: false,
      PersistenceId: null,
      ResumeVersion: null,
      StopStrategy: null,
      RuntimeType: 'Unattended',
      RequiresUserInteraction: false,
      ReleaseVersionId: null,
      EntryPointPath: null,
      OrganizationUnitId: folder.Id,
      OrganizationUnitFullyQualifiedName: folder.FullyQualifiedName,
      Reference: startInfo.Reference ?? null,
      ProcessType: 'Process',
      Id: this.id(),
      ReleaseKey: release.Key,
    };
    this.jobs.push(job);
    this.run(
      () => {
        job.State = 'Running';
        job.StartTime = isoNow();
        job.HostMachineName = 'SIM-ROBOT';
      },
      () => {
        job.State = this.forcedOutcomes.shift() ?? 'Successful';
        job.EndTime = isoNow();
        job.Info = job.State === 'Successful' ? 'Job completed' : `Job ${job.State.toLowerCase()} (simulated)`;
        job.OutputArguments = job.State === 'Successful' ? '{}' : null;
      },
    );
    return job;
  }

  createQueueItem(
    queue: SimQueue,
    folder: SimFolder,
    data: {
      Priority?: string;
      SpecificContent?: Record<string, unknown>;
      Reference?: string;
      DeferDate?: string;
      DueDate?: string;
    },
  ): SimQueueItem {
    const item: SimQueueItem = {
      QueueDefinitionId: queue.Id,
      OutputData: null,
      AnalyticsData: null,
      Status: 'New',
      ReviewStatus: 'None',
      ReviewerUserId: null,
      Key: randomUUID(),
      Reference: data.Reference ?? null,
      ProcessingExceptionType: null,
      DueDate: data.DueDate ?? null,
      RiskSlaDate: null,
      Priority: data.Priority ?? 'Normal',
      DeferDate: data.DeferDate ?? null,
      StartProcessing: null,
      EndProcessing: null,
      SecondsInPreviousAttempts: 0,
      AncestorId: null,
      RetryNumber: 0,
      SpecificData: JSON.stringify(data.SpecificContent ?? {}),
      CreationTime: isoNow(),
      Progress: null,
      RowVersion: Buffer.from(String(Date.now())).toString('base64'),
      OrganizationUnitId: folder.Id,
      OrganizationUnitFullyQualifiedName: folder.FullyQualifiedName,
      Id: this.id(),
      ProcessingException: null,
      SpecificContent: data.SpecificContent ?? {},
      Output: null,
      Analytics: null,
    };
    this.queueItems.push(item);
    this.run(
      () => {
        item.Status = 'InProgress';
        item.StartProcessing = isoNow();
      },
      () => {
        item.Status = 'Successful';
        item.EndProcessing = isoNow();
      },
    );
    return item;
  }

  /** Waits for a free robot, then starts the work and finishes it `jobMs` later. */
  private run(start: () => void, finish: () => void): void {
    const go = () => {
      this.busy++;
      // A robot picks the work up shortly after creation, so StartJobs answers Pending, as Orchestrator does.
      const pickup = setTimeout(() => {
        this.timers.delete(pickup);
        start();
      }, 5);
      pickup.unref();
      this.timers.add(pickup);
      const t = setTimeout(() => {
        this.timers.delete(t);
        finish();
        this.busy--;
        this.waiting.shift()?.();
      }, 5 + this.settings.jobMs);
      t.unref();
      this.timers.add(t);
    };
    if (this.busy < this.settings.robots) go();
    else this.waiting.push(go);
  }

  /** Starts waiting work if robots were added. */
  pump(): void {
    while (this.busy < this.settings.robots && this.waiting.length > 0) this.waiting.shift()?.();
  }

  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting = [];
    this.busy = 0;
    this.jobs = [];
    this.queueItems = [];
    this.tokens.clear();
    this.forcedOutcomes = [];
    this.stats = { tokenRequests: 0, requests: {}, rateLimited: 0 };
  }
}
