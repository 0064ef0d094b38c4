/** A `host:port` pair, as ioredis `Cluster` takes for its startup nodes. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}
