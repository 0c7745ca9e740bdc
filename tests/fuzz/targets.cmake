# Every fuzz target and what it links. Add a line here with each new <name>_fuzz.cpp.
warden_fuzz_target(cel warden_cel)
warden_fuzz_target(policy warden_policy)
warden_fuzz_target(edge_api warden_edge)
warden_fuzz_target(cel_differential warden_cel warden_policy)
warden_fuzz_target(sync_edge warden_edge)
warden_fuzz_target(manifest warden_directory)
warden_fuzz_target(schema_zed warden_directory)
warden_fuzz_target(directory_data warden_directory warden_http)
