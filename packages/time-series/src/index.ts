export { createTimeSeries, TimeSeries } from './timeSeries.js';
export type {
  AddSampleOptions,
  OutOfOrderPolicy,
  QuerySegment,
  RangeOptions,
  RebuildResult,
  RollupOptions,
  Sample,
  SamplePoint,
  SampleValue,
  TimeBound,
  TimeSeriesInfo,
  TimeSeriesOptions,
} from './timeSeries.js';
export { createTimeSeriesIndex, reduceSamples, TimeSeriesIndex } from './labelIndex.js';
export type { MGetResult, MRangeOptions, MRangeResult, Reducer, TimeSeriesIndexOptions } from './labelIndex.js';
export { parseFilter, matches } from './filter.js';
export type { LabelFilter, Matcher } from './filter.js';
export { AGGREGATIONS, bucketStart, percentile } from './aggregate.js';
export type { Aggregation } from './aggregate.js';
export { OutOfOrderError } from './errors.js';
export { CPU_METRICS, cpuSeries, recordCpu } from './cpu.js';
export type { CpuRecorder, CpuSample, CpuSeriesOptions, HostCpu, RecordCpuOptions } from './cpu.js';
