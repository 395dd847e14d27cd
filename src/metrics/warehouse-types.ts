/** The warehouse run and status shapes the metrics are built from (defined by the warehouse module). */
export type { TableStatus, WarehouseRunReport, WarehouseTableReport } from '../warehouse/types.ts';
