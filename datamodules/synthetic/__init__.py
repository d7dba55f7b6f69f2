"""datamodules/synthetic"""
