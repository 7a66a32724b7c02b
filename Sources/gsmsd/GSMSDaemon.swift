print("gsmsd")
