/** The fields of Orchestrator's JobDto this project reads (others are passed through untyped). */
export interface JobDto {
  Id: number;
  Key: string;
  State:
    | 'Pending'
    | 'Running'
    | 'Stopping'
    | 'Terminating'
    | 'Faulted'
    | 'Successful'
    | 'Stopped'
    | 'Suspended'
    | 'Resumed'
    | string;
  Reference?: string | null;
  Info?: string | null;
  CreationTime?: string;
  StartTime?: string | null;
  EndTime?: string | null;
  OrganizationUnitId?: number;
  [field: string]: unknown;
}

export interface QueueItemDto {
  Id: number;
  Key: string;
  Status: string;
  Reference?: string | null;
  QueueDefinitionId?: number;
  [field: string]: unknown;
}

export interface ReleaseDto {
  Key: string;
  ProcessKey: string;
  Name: string;
  Id: number;
  OrganizationUnitId?: number;
  [field: string]: unknown;
}

export interface ODataCollection<T> {
  '@odata.context'?: string;
  '@odata.count'?: number;
  value: T[];
}

export type Priority = 'Low' | 'Normal' | 'High';

/** Terminal job states for a poller. */
export const TERMINAL_STATES = new Set(['Successful', 'Faulted', 'Stopped']);

/** Orchestrator's own limits, checked before sending. */
export const MAX_INPUT_ARGUMENTS_CHARS = 10_000;
export const MAX_REFERENCE_CHARS = 128;
export const DUPLICATE_REFERENCE_ERROR_CODE = 1016;
