-- gRPC health checks (issue #21): the service a grpc check asks grpc.health.v1.Health/Check
-- about; '' is the server as a whole.
ALTER TABLE routes ADD COLUMN health_grpc_service TEXT NOT NULL DEFAULT '';
