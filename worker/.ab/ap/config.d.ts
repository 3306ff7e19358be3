import { z } from 'zod';
declare const workerEnv: z.ZodObject<{
    LOG_LEVEL: z.ZodPreprocess<z.ZodDefault<z.ZodEnum<{
        error: "error";
        fatal: "fatal";
        warn: "warn";
        info: "info";
        debug: "debug";
        trace: "trace";
        silent: "silent";
    }>>, unknown>;
    WORKER_CONCURRENCY: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    COMPUTE_THREADS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    JOB_TIMEOUT_MS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    RECONCILE_INTERVAL_MS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    WORKER_LOCK_DURATION_MS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    WORKER_STALLED_INTERVAL_MS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    HEALTH_PORT: z.ZodPipe<z.ZodPreprocess<z.ZodOptional<z.ZodString>, unknown>, z.ZodOptional<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>>;
    REDIS_URL: z.ZodPreprocess<z.ZodOptional<z.ZodString>, unknown>;
    REDIS_HOST: z.ZodPreprocess<z.ZodDefault<z.ZodString>, unknown>;
    REDIS_PORT: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    REDIS_PASSWORD: z.ZodPreprocess<z.ZodOptional<z.ZodString>, unknown>;
    DATABASE_URL: z.ZodPreprocess<z.ZodOptional<z.ZodString>, unknown>;
    PGHOST: z.ZodPreprocess<z.ZodDefault<z.ZodString>, unknown>;
    PGPORT: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    PGUSER: z.ZodPreprocess<z.ZodDefault<z.ZodString>, unknown>;
    PGPASSWORD: z.ZodPreprocess<z.ZodOptional<z.ZodString>, unknown>;
    PGDATABASE: z.ZodPreprocess<z.ZodDefault<z.ZodString>, unknown>;
    PG_POOL_MAX: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
    PG_CONNECT_TIMEOUT_MS: z.ZodPreprocess<z.ZodDefault<z.ZodPipe<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>, z.ZodNumber>>, unknown>;
}, z.core.$strip>;
/** The worker's validated settings. */
export type WorkerConfig = z.infer<typeof workerEnv>;
/** Reads and validates the worker's environment once; throws ConfigError naming each bad variable. */
export declare function loadConfig(env?: NodeJS.ProcessEnv): WorkerConfig;
export {};
