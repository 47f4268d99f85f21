-- wrk script: POST /query/1 with the body in $BODY and the secret in $SECRET.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SECRET")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-format"] = "tagged"
