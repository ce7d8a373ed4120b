"""GPU capacity management: quotas per business unit and pool, and GPU requests that the
``gpu_request`` gate turns into allocations."""
